"""Review: the case store (materialised from Kafka like a Connect sink) and what reads it,
the weekly report. The case API and the board of the application query it."""
