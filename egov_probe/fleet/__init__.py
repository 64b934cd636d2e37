"""The fleet audit: many hosts from an Ansible inventory, over SSH or WinRM, in parallel."""
