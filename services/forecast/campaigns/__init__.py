"""Campaigns in the forecast service: the content plan made with people, messaging, tracking, retrospective."""
