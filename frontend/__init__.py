"""The browser front end: Django templates and plain ES-module JavaScript, no bundler."""
