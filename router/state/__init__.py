"""Local persistent state stores of stateful router stages (materialised changelogs)."""
