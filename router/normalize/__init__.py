"""Router stage 1: raw envelope -> :class:`schemas.complaint.NormalizedReport`."""
