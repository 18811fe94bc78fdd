"""The PyTorch half of GanInitModel's train and test steps: autograd and no_grad."""

import torch

from keras_ganinit._src.pretraining import steps


def _update(model, loss, variables, optimizer):
    # Scaled by the optimizer (mixed precision's dynamic scale, or
    # loss_scale_factor); `apply` unscales the gradients.
    optimizer.scale_loss(loss).backward()
    grads = [variable.value.grad for variable in variables]
    with torch.no_grad():
        optimizer.apply(grads, variables)


def train_step(model, data):
    """One alternating update: the discriminator first, then the generator."""
    x = steps.inputs_of(data)
    d_loss = torch.zeros(())
    if model.adversarial:  # the recipes without a discriminator skip it
        with torch.no_grad():
            generated = model(x, training=True)
        model.zero_grad()
        d_loss = steps.discriminator_loss(model, x, generated, training=True)
        _update(
            model,
            d_loss,
            model.discriminator.trainable_variables,
            model.discriminator_optimizer,
        )
    model.zero_grad()
    g_loss, reconstruction = steps.generator_loss(model, x, training=True)
    _update(
        model, g_loss, model.generator_trainable_variables, model.generator_optimizer
    )
    with torch.no_grad():
        steps.count_step(model)
    return steps.record_losses(
        model, d_loss.detach(), g_loss.detach(), reconstruction.detach()
    )


def test_step(model, data):
    """Both losses on a batch, without updating anything."""
    x = steps.inputs_of(data)
    with torch.no_grad():
        d_loss = steps.discriminator_loss(
            model, x, model(x, training=False), training=False
        )
        g_loss, reconstruction = steps.generator_loss(model, x, training=False)
    return steps.record_losses(model, d_loss, g_loss, reconstruction)
