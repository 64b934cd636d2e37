"""The portable Windows kit: the embeddable CPython, the win_amd64 wheels and the probe,
assembled into a folder that runs from a USB stick with no installation (``egov-probe kit``)."""
