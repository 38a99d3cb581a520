"""LinkedIn Community Management connector: webhook validation and signatures, organization
social action notifications, and comment replies as the organization."""
