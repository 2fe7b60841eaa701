"""The router: intake.raw.* -> normalize -> place -> dedupe -> dispatch.<district>.

Stage 1 (stateless, scales out) normalizes raw envelopes into reports on
``unionhub.router.normalized``; stage 2 (stateful, one owner of that single
partition, standbys restore from the changelog) places, dedupes, alerts and
dispatches. Both stages run on the exactly-once runtime of ``router.runtime``.
"""
