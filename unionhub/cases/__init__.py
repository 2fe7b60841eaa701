"""The case API of the application: who is asking (access tokens), building and sending a
district's actions, the figures for a period. The REST routes, the CLI and the board are thin
layers over these modules and over :mod:`review.store`."""
