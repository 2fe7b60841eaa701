"""Router stage 1, normalize: raw envelope -> :class:`schemas.complaint.NormalizedReport`,
validated, pseudonymised and placed (:mod:`router.normalize.place` is its sub-step)."""
