"""The Docker-free local stack (DESIGN §6): moto, the template's resources, an API gateway and a Kinesis poller."""
