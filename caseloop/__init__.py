"""The closed loop's rules (caseloop.md), with no I/O: calendar, limits, clocks, transitions,
supervision and figures. The router applies them in its dispatch stage; the case store,
the report and the board compute the figures with them."""
