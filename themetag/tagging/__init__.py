"""The trained bundle and tagging with it: loading, scoring, thresholds applied, batch in and out.
This is all a service that only tags needs (the slim install)."""
