"""The city desk's live board at ``/board``: a login page, a city view and one view per
district, updated live over server-sent events fed by the case store's sink."""
