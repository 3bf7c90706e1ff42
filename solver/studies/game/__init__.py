"""The coalition game (coalition share): c(S) per group, fair splits, who would leave."""
