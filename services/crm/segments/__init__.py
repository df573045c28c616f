"""CRM segments (docs/crm-segments.md), in the order a reader meets them:

- rules.py: a segment's rules as validated data over attributes and metrics, and their one SQL form;
- membership.py: who is in which segment (`segments_of`, `evaluate`, `add_member`, `refresh`), the contract
  journeys, lobbies and content read;
- segments.py: what staff do (create, change, archive, preview before saving, upload a static list);
- consumer.py: the `crm-segments` consumer, dynamic segments following the events about their players;
- sweep.py: the loop for players whose money moved (once the report projection counted it) and the periodic
  sweep of every dynamic segment (time moves recency on).
"""
