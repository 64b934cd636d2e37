"""The audit: sections collect one area's facts and judge them under the policy
(``sections``); ``run`` makes one report of them for this machine; ``evidence`` dumps the raw
values the collectors read."""
