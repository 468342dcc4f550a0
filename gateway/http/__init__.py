"""HTTP plumbing shared by every capability: error mapping, JSON bodies, app keys."""
