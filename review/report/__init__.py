"""The weekly review (每周议): gathered from the case store (:mod:`.data`), drawn
(:mod:`.charts`) and written as HTML and PDF (:mod:`.render`)."""
