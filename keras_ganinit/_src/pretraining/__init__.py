"""Adversarial pretraining: GanInitModel, its arguments, losses and trainers."""
