"""Standard Webhooks (standardwebhooks.com): signing, verification, retry schedule, SSRF guard."""
