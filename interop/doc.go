// Package interop moves weights between asym and the Python world.
//
// # Export
//
// [Export] writes a model's forward weights, biases and batch-norm
// parameters and statistics to a safetensors file under the names PyTorch
// uses. asym's ResNet-18/34/50/101/152 use torchvision's layout and names,
// so the file loads into torchvision.models.resnetNN(num_classes=K) with
// load_state_dict and gives the same logits (checked in a test). Batch
// norms also get torchvision's num_batches_tracked (int64). With
// feedback=true the backward weights B are added as
// "<layer>.backward_weight" (load them with strict=False).
//
// # Import
//
// [Import] copies the tensors of a safetensors file (for example a
// torchvision ResNet's weights converted to safetensors) into a network's
// parameters by name, so that a rule can start from a backprop-trained
// network. Every parameter must be found with the right shape unless it
// matches a skip pattern (e.g. "fc.*" to keep a new classifier); tensors
// of the file that the model does not use are reported.
package interop
