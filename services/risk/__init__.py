"""Risk and antifraud (issue 17): signals, linked accounts, block and watch lists.

The package, one job a module (each imports only those above it):
- signals.py: the kinds of signal and how each is normalised (email, phone, IP network, device id);
- lists.py: block and watch lists (entries, the one-statement check, flags and `risk.list_hit`);
- observe.py: the inline observation a flow writes in its transaction;
- cards.py: a card token's BIN and fingerprint from the PSP's vault;
- gates.py: the flows' questions (registration, deposit, withdrawal), in their transactions;
- consumer.py: the `risk-signals` consumer (signals, cluster unions, `risk.accounts_linked`);
- clusters.py: reading a player's cluster and what links its members.
"""
