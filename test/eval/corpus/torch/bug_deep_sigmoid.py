# Ten sigmoid layers of width 128 on 100 features.
import torch
import torch.nn as nn


class DeepSigmoid(nn.Module):
    def __init__(self, d_in=100, width=128, depth=10, classes=4):
        super().__init__()
        self.first = nn.Linear(d_in, width)
        self.blocks = nn.ModuleList([nn.Linear(width, width) for _ in range(depth - 1)])
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        x = torch.sigmoid(self.first(x))
        for block in self.blocks:
            x = torch.sigmoid(block(x))
        return self.head(x)


model = DeepSigmoid()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
