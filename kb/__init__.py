"""The knowledge base (知识库, 一问一答): authoritative entries with their basis, a review workflow for
units and the platform, Chinese search for agents and live suggestions during the call.

Entry points: ``kb.http.setup(app)`` (routes + start-up context), ``kb.service.KnowledgeBase``,
``kb.seed.seed``, ``kb.cli`` (``hotline kb …``, ``hotline bench kb``). See kb/README.md.
"""
