"""Federation HTTP edges: discovery, actors and collections, inboxes, delivery state."""

from federation.routes import actors, deliveries, discovery, inbox, resolve

ROUTES = [*discovery.ROUTES, *actors.ROUTES, *inbox.ROUTES, *deliveries.ROUTES, *resolve.ROUTES]
