"""Judges: collected facts + the policy -> check results. They read nothing from the machine.

(Not to be confused with the repository's ``checks/``, the testinfra checks of the servers.)
"""
