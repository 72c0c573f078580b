// Package data holds asym's data sets and its batch loader.
//
// # Data sets
//
// A [Dataset] is an indexed collection of labelled samples of a fixed shape
// (channels, height, width) whose values are read as float32 on their raw
// scale (0..16 for digits, 0..255 for MNIST), before normalisation. [Open]
// returns the training and test splits of a named data set:
//
//   - "digits": the UCI "Optical Recognition of Handwritten Digits" data set
//     (1797 images of 1×8×8, values 0..16, 10 classes), embedded in the
//     package, so it needs no download. It has no official split; [Digits]
//     makes a fixed stratified one: within each class, the samples are
//     shuffled with a generator seeded by [DigitsSplitSeed] and
//     round(0.2·n) of them go to the test split. That gives 1438 training
//     and 359 test samples (per class 0..9: 36 36 35 37 36 36 36 36 35 36
//     test samples), both in file order.
//   - "fashion-mnist": Fashion-MNIST (60000 + 10000 images of 1×28×28,
//     values 0..255, 10 classes) in the IDX format, read from the directory
//     given or, by default, from [FashionMNISTDir], where Debian's
//     dataset-fashion-mnist package installs it.
//   - "mnist": MNIST, same format; it has no default directory.
//   - "cifar10" and "cifar100": CIFAR-10 and CIFAR-100 (50000 + 10000
//     images of 3×32×32, values 0..255, 10 or 100 classes) in their
//     official binary formats ([LoadCIFARDir], [ParseCIFAR]), read from the
//     directory given or its cifar-10-batches-bin or cifar-100-binary
//     sub-directory. Their standard augmentation, in [Info].Augment, is
//     pad-4 random crops and flips.
//   - "imagefolder": an ImageNet-style tree DIR/train/<class>/*.jpg and
//     DIR/val/<class>/*.jpg (JPEG or PNG) read lazily by [ImageFolder]: a
//     sample is decoded when read, at S×S (224 by default, [Options]),
//     with the paper's preprocessing: random-resized crops and flips for
//     training, resize and centre crop for evaluation.
//   - "text": a character-level text ([ParseText]): Newton's Opticks
//     (567,038 characters, 91 distinct), embedded ([Opticks]), or the UTF-8
//     text file given as the directory. The vocabulary ([Vocab]) is the
//     text's distinct characters in code-point order; the first 90% of the
//     characters form the training split, the last 10% the validation
//     (test) split. A sample ([TokenWindows]) is a window of
//     [Options].Context characters, shape (2, context): the input ids and
//     the next-character targets; training windows start at a random
//     offset each epoch. Losses in nats convert to bits per character with
//     [BitsPerChar].
//
// [Memory] is the in-memory implementation: pixels stay uint8 (Fashion-MNIST's
// training split takes 47 MB), converted to float32 when read. [Subset] and
// [Take] select samples of a data set without copying them.
//
// A data set with a random training transform of its own implements
// [Augmenter]: Read gives its evaluation transform, ReadAugmented its
// training transform, drawing from a generator the [Loader] seeds.
//
// [Fetch] (the `asym data fetch` command) downloads MNIST, Fashion-MNIST,
// CIFAR-10 and CIFAR-100 from their publishers, checking sizes, SHA-256 and
// MD5 sums, resuming interrupted transfers and unpacking archives; a file
// copied into the directory by hand is verified instead.
//
// # Loader
//
// A [Loader] turns a data set into batches of shape (N, C, H, W) with int32
// labels, prepared ahead of time by a pool of worker goroutines into a
// bounded set of recycled buffers. Everything random is a function of the
// seed and the position, never of scheduling: the order of epoch e depends
// only on (seed, e), and the augmentation of the sample at position p of
// epoch e (an [Augmenter]'s transform, random crop with zero padding,
// horizontal flip) only on (seed, e, p). So batches do not depend on the
// number of workers, and a run resumed at batch k of epoch e sees exactly
// the batches it would have seen. Normalisation (x−mean)/std per channel
// comes last, with constants computed from the training split by
// [ComputeNorm] or given.
//
// Samples that cannot be read (errors wrapping [ErrBadSample]: a corrupt or
// empty image file) are left out of their batch, listed in
// [Batch].Skipped and summed up by [Loader.Skipped], so that one bad file
// neither ends an epoch nor goes unnoticed.
//
// # Errors
//
// Files are validated before anything is allocated from sizes they declare;
// problems are returned as errors wrapping a sentinel ([ErrNotFound],
// [ErrBadMagic], [ErrTruncated], [ErrLabelRange], ...) that name the file and
// say what to do. Misuse by the caller (a shape mismatch, an index out of
// range) panics with a message that begins with "data: ".
//
// # Credits
//
// The digits data set is by E. Alpaydin and C. Kaynak (1998), "Optical
// Recognition of Handwritten Digits", UCI Machine Learning Repository,
// licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
// The embedded file digits.csv.gz is that data set's 1797-sample test-set
// file (the copy scikit-learn ships as its digits data set); see the NOTICE
// file.
// Fashion-MNIST (H. Xiao, K. Rasul, R. Vollgraf, Zalando Research, 2017, MIT
// licence), MNIST (Y. LeCun, C. Cortes, C. J. C. Burges) and CIFAR-10/100
// (A. Krizhevsky, V. Nair, G. Hinton, 2009) are not shipped; they are read
// from files the user installs or fetches.
package data
