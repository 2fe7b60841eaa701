"""Router stage 2, dispatch: dedupe (cases as connected components of dispatch.md's "match"),
risk alerts, dispatch events, with the state in a compacted changelog and a local store."""
