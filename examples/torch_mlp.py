# Demonstrates vanishing gradients in PyTorch: eight sigmoid hidden layers of width 256 on
# MNIST-sized inputs. The first layers receive gradients orders of magnitude smaller than the
# last ones. Activation Lens suggests ReLU (with He initialisation) and can apply it.
import torch
import torch.nn as nn

HIDDEN = 256
DEPTH = 8


class SigmoidMLP(nn.Module):
    def __init__(self, in_features=784, hidden=HIDDEN, depth=DEPTH, classes=10):
        super().__init__()
        self.fc_in = nn.Linear(in_features, hidden)
        self.hidden = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(depth - 1)])
        self.fc_out = nn.Linear(hidden, classes)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = torch.sigmoid(self.fc_in(x))
        for layer in self.hidden:
            x = torch.sigmoid(layer(x))
        return self.fc_out(x)


model = SigmoidMLP()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
