"""Sanctions and PEP screening (issue 16, item 6). Modules, in the order a check runs:
translit (names in ASCII, script by script) -> names (tokens, phonetic, skeleton, pinyin, index keys)
-> compare (a list name against a player's name; distinct and suffixes: when two alike spellings are
two names) -> lists (FollowTheMoney lists, versioned by hash)
-> match (the index, confirmers and threshold) -> screening (a player screened, alerts raised, the
false-positive memory, `screening_clear`) -> alerts (the staff queue and decisions) -> consumer (screening
on registration and name changes, from the event stream) -> rescreen (every player, after a list update).
"""
