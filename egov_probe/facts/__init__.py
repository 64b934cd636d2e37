"""Fact collectors: they read the machine and judge nothing."""
