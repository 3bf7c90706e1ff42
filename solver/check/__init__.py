"""The independent solution checker: it never imports the model or the HiGHS code."""
