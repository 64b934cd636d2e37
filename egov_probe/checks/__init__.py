"""Checks judge collected facts against the policy; they read nothing from the machine."""
