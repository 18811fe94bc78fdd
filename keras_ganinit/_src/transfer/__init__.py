"""Handing pretrained weights over: sources, the initializer, whole models."""
