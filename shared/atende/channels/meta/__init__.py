"""What Messenger and Instagram share: both are Meta's Messenger Platform, with the same
handshake, signature, `entry[].messaging[]` shape, Send API and Graph error codes."""
