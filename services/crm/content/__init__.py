"""Content: banners, promotion pages and content blocks per brand, language, segment and jurisdiction
(docs/crm-content.md; tables in models/crm_content.py).

The modules, in the order a piece of content travels:
- `rules`: what a version may hold (targeting and texts per language), validated as data;
- `items`: the staff commands — create, edit (a new version), publish with a schedule, unpublish — and
  the staff reads (the list, an item's versions), brand-scoped, audited;
- `serving`: what a viewer sees — their audience (brand, language, jurisdiction, segments), the brand's
  live versions, the choice per placement/slug/key at an instant — cached per audience and dropped
  everywhere when content changes; and the staff preview as a given player, drafts included.

Invariants: a version is never updated once written; what a viewer sees is a published version whose window
holds the instant of the request (so a schedule needs no worker); a segment-targeted version reaches only
members of that segment (crm_segment_members, read only), so an anonymous visitor never sees one.
"""
