"""Federation HTTP edges: discovery, actors and collections, inboxes, delivery state."""

from federation.routes import actors, deliveries, discovery, inbox

ROUTES = [*discovery.ROUTES, *actors.ROUTES, *inbox.ROUTES, *deliveries.ROUTES]
