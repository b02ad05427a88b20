"""The wire contract shared by the dashboard's client and the simulator: pydantic models of Weavr's bodies
(``models``), request validation with Weavr's 400 bodies (``requests``, ``validation``), the operation kinds
(``kinds``), webhook signatures (``signatures``), JSON helpers (``codec``) and the simulator's own control
bodies (``presenter``, ``scenarios``). It imports neither the client (``bulkdash.api``) nor the simulator.
"""
