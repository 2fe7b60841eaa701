"""Hostile input at every parser: tables of attack classes and hypothesis fuzzing."""
