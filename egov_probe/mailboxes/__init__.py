"""Official mailbox review and provisioning: officer rosters checked against the provincial LDAP
directory, then a reviewed plan applied.

``roster`` imports the officer lists (names cleaned, each correction noted), ``naming`` proposes
addresses, ``reservations`` holds proposals until applied (store or directory), ``directory``
reads (and when applying writes) the directory, ``review`` judges each officer, ``plan`` is what
a review proposes to change, ``provision`` checks and applies a plan, ``outputs`` writes the review
document, the plan, the LDIF and the CSV, ``credentials`` reads the bind passwords, ``run`` ties
one review or one application together.
"""
