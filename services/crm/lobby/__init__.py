"""Personalised lobbies (docs/crm-lobby.md). One module per job:

- `layouts`: a segment's lobby layout (category order, featured games, optionally an A/B variant), made,
  edited and archived by marketing and content managers; every change drops the cached lobbies;
- `popular`: the popular games per brand, segment and country, computed periodically into a table;
- `personal`: what the lobby query adds for a player: the layout they get (one statement, the A/B exposure
  recorded once) and their recently played games (one statement, never in the shared cache).
"""
