"""Serverless product analytics: the code shared by every Lambda function of the stack."""
