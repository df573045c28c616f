"""Transaction monitoring: rules as data over the event stream (docs/aml-monitoring.md).

In order: `rules` (a version's rules and scenario, from TOML), `engine` (the rules at work on a player's
state, pure), `facts` (events into facts, amounts into the base currency), `versions` (stored versions,
the live one, activation), `consumer` (the live run over the stream), `alerts` (the staff queue and
decisions), `backtest` (a version over the stored history beside the live one).
"""
