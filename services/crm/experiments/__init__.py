"""A/B tests (docs/crm-experiments.md): variants of a journey, a bonus campaign or a segment's lobby, a holdout,
a conversion read from the report projections, and the result with its confidence interval. One module per job:

- `assignment`: `bucket_of` (pure, SHA-256 of experiment and player) and `assign` (recorded on first exposure),
  what journeys, campaigns and lobbies call;
- `definitions`: an experiment as validated data (variants, weights, holdout, metric), made, edited while a
  draft, started and stopped;
- `stats`: Wilson score intervals, Newcombe's hybrid score interval for a difference of proportions, and a
  Welch (normal) interval for a difference of means;
- `results`: exposures and conversions per variant from `crm_experiment_assignments` and `report_player_days`.
"""
