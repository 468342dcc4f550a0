"""Multi-channel intake: web portal, WeChat, mailbox, app, national platform, leaders' message boards."""
