"""The HTTP and websocket interface: thin DRF views and Channels consumers over services and selectors."""
