"""The demo world: stand-ins for the outside parties and the data a newcomer plays with.

- `psp/`: a stand-alone PSP process (three PSP dialects, a card vault, webhooks on command);
- `provider/`: a stand-alone game provider process playing the aggregator's side of the Hub88 wallet;
- `seed.py`: demo brands, staff, players, games, payments and bonuses (`croupier seed-demo`).

Nothing in the platform imports this package except the CLI's demo commands and the tests.
"""
