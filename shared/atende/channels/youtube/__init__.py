"""YouTube through WebSub (PubSubHubbub): the hub's subscription checks, signed Atom
notifications of a channel's uploads and video updates, and the job that keeps the
subscriptions alive. YouTube offers no reply path here (see docs/channels.md)."""
