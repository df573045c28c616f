"""Journeys: triggered, multi-step CRM flows as data. The modules, in the order a player meets them:

1. `definition` — what a journey is (pydantic: trigger, entry segment, caps, quiet hours, steps), validated;
2. `store` — journeys' CRUD and lifecycle (draft → active → paused → archived; versions), reads of runs;
3. `consumer` — `crm-journeys`: an event that fires a trigger becomes a decision (a run, or a skip with
   its reason) in the consumer's transaction, within a second of the event;
4. `clock` — the clock worker: time triggers (inactive N days, no deposit N hours after registration) and
   the runs that are due (after a delay, or when quiet hours end);
5. `steps` — one run's steps: conditions, and the actions (send, offer, tag, move to a segment), each
   checked by suppression first, with the frequency caps and quiet hours;
6. `quiet` — quiet hours in the player's own time zone.
"""
