"""REST routes and adapters facing game providers and PSPs (signed, never GraphQL).

Empty until the games issue (Hub88 wallet API, demo provider) and the money issue (PSP adapters,
demo PSPs) land: each provider protocol will be one adapter module over one wallet service.
"""
