"""Official mailbox review: officer rosters checked against the provincial LDAP directory.

``roster`` imports the officer lists, ``naming`` proposes addresses, ``directory`` reads (and with
``--apply`` writes) the directory, ``review`` judges each officer, ``outputs`` writes the review
document, the LDIF and the CSV, ``credentials`` reads the bind passwords.
"""
