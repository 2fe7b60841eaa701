"""Router stage 2: cases as connected components of the "match" relation of dispatch.md."""
