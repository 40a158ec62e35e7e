"""Safe retries: a creating request sent again with the same `Idempotency-Key` gets the first answer again.

A request that creates something (`POST` answering 201) may carry `Idempotency-Key` (1-255 visible ASCII
characters). The first request under a key runs; its 2xx answer is kept for 24 hours per principal (per
client address for anonymous callers), sealed (an answer may carry a secret shown once), in Redis when
configured and in the database otherwise. The same key
with the same request replays that answer (`Idempotent-Replayed: true`) and creates nothing; with another
request it is a 422 `idempotency_key_reused`; while the first is still running, a 409
`idempotency_key_in_use`. An answer that is not 2xx is not kept: the client may retry under the same key.
"""
